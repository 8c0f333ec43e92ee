export { PROXY_ADMIN_PREFIX } from './admin-routes.js';
export { type FaultProxy, type FaultProxyOptions, startFaultProxy } from './fault-proxy.js';
export {
  type InjectedProxyFault,
  LOST_ANSWER_SHAPES,
  type LostAnswerShape,
  noProxyFaults,
  PROXY_FAULT_KINDS,
  type ProxyFaultKind,
  type ProxyFaults,
  type ProxyFaultsPatch,
  type ProxyTargetedFault,
  type ScopedRate,
} from './faults.js';
export { PROXIED_SERVICES, type ProxiedService } from './service-errors.js';
export {
  emptyProxyCounts,
  type FaultProxyStats,
  INJECTION_KINDS,
  type InjectionKind,
  type ProxyCallCounts,
  type ProxyInjection,
} from './stats.js';
