import { namespaceAccount, parseNamespaceArn, producerArnOf } from './arn.js';
import { notAssociated, unknownDataShare } from './errors.js';
import type { AssociationSeed, ParsedSeedFile } from './seed-file.js';
import type { ConsumerTarget, DataShareAssociationState, DataShareState } from './types.js';

/**
 * When a seeded association without `createdDate` was made: long before any decision a test or
 * the demo sends. A seed describes the world as it already is; an association dated at load time
 * would look newer than every decision issued before the run, and supersede it.
 */
export const SEEDED_ASSOCIATION_DATE = '2000-01-01T00:00:00.000Z';

/**
 * The emulator's datashares and associations. Consumer-side operations act for one account (the
 * caller's, by default the account the worker runs in). Callers get copies, never the stored
 * objects.
 */
export class DataShareStore {
  private readonly datashares = new Map<string, DataShareState>();

  constructor(
    readonly consumerAccountId: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Replaces every datashare with the seed's. */
  load(seed: ParsedSeedFile): void {
    this.datashares.clear();
    for (const share of seed.datashares) {
      this.datashares.set(share.dataShareArn, {
        dataShareArn: share.dataShareArn,
        producerArn: share.producerArn ?? producerArnOf(share.dataShareArn),
        allowPubliclyAccessibleConsumers: share.allowPubliclyAccessibleConsumers,
        dataShareType: 'INTERNAL',
        ...(share.managedBy === undefined ? {} : { managedBy: share.managedBy }),
        associations: share.associations.map((a) => this.associationFromSeed(a)),
      });
    }
  }

  get(dataShareArn: string): DataShareState | undefined {
    const share = this.datashares.get(dataShareArn);
    return share && structuredClone(share);
  }

  /** Every datashare, sorted by ARN so that pagination markers stay stable. */
  list(): DataShareState[] {
    return [...this.datashares.values()]
      .sort((a, b) => (a.dataShareArn < b.dataShareArn ? -1 : 1))
      .map((share) => structuredClone(share));
  }

  /** Whether an association belongs to the account (its namespaces, regions, itself). */
  ownedBy(
    association: DataShareAssociationState,
    accountId: string = this.consumerAccountId,
  ): boolean {
    const id = association.consumerIdentifier;
    return id === accountId || namespaceAccount(id) === accountId;
  }

  /**
   * Whether an association gives `namespaceArn` access: its own association, a region-wide one
   * of its account and region, or an entire-account one of its account.
   */
  coversNamespace(association: DataShareAssociationState, namespaceArn: string): boolean {
    if (association.consumerIdentifier === namespaceArn)
      return association.consumerRegion === undefined;
    const namespace = parseNamespaceArn(namespaceArn);
    if (!namespace || association.consumerIdentifier !== namespace.account) return false;
    return (
      association.consumerRegion === undefined || association.consumerRegion === namespace.region
    );
  }

  /** Whether `target` (of `accountId`'s) has an ACTIVE association with the datashare. */
  isAssociated(
    dataShareArn: string,
    target: ConsumerTarget,
    accountId: string = this.consumerAccountId,
  ): boolean {
    const share = this.datashares.get(dataShareArn);
    return share?.associations.some((a) => this.matches(a, target, accountId)) ?? false;
  }

  /**
   * Removes the ACTIVE association(s) of `target`, as DisassociateDataShareConsumer does, and
   * returns the datashare with what remains.
   *
   * @throws {RedshiftApiError} `InvalidDataShareFault` when the ARN is unknown or nothing ACTIVE matches.
   */
  disassociate(
    dataShareArn: string,
    target: ConsumerTarget,
    accountId: string = this.consumerAccountId,
  ): DataShareState {
    const share = this.datashares.get(dataShareArn);
    if (!share) throw unknownDataShare('disassociate', dataShareArn);
    const remaining = share.associations.filter((a) => !this.matches(a, target, accountId));
    if (remaining.length === share.associations.length) throw notAssociated(dataShareArn);
    share.associations = remaining;
    return structuredClone(share);
  }

  /**
   * Makes `target` ACTIVE on the datashare at `at` (default now): a new association is created
   * then; re-activating an existing one keeps its creation date and changes its status date.
   * Associating an already ACTIVE target changes nothing.
   *
   * @throws {RedshiftApiError} `InvalidDataShareFault` when the ARN is unknown.
   */
  associate(
    dataShareArn: string,
    target: ConsumerTarget,
    allowWrites?: boolean,
    accountId: string = this.consumerAccountId,
    at: Date = this.now(),
  ): DataShareState {
    const share = this.datashares.get(dataShareArn);
    if (!share) throw unknownDataShare('associate', dataShareArn);
    const identifier = target.kind === 'namespace' ? target.consumerArn : accountId;
    const region = target.kind === 'region' ? target.region : undefined;
    const existing = share.associations.find(
      (a) => a.consumerIdentifier === identifier && a.consumerRegion === region,
    );
    const now = at;
    if (existing) {
      if (existing.status !== 'ACTIVE') {
        existing.status = 'ACTIVE';
        existing.statusChangeDate = now;
      }
    } else {
      share.associations.push({
        consumerIdentifier: identifier,
        status: 'ACTIVE',
        ...(region === undefined ? {} : { consumerRegion: region }),
        createdDate: now,
        statusChangeDate: now,
        ...(allowWrites === undefined ? {} : { consumerAcceptedWrites: allowWrites }),
      });
    }
    return structuredClone(share);
  }

  private matches(
    association: DataShareAssociationState,
    target: ConsumerTarget,
    accountId: string,
  ): boolean {
    if (association.status !== 'ACTIVE') return false;
    switch (target.kind) {
      case 'namespace':
        return (
          association.consumerIdentifier === target.consumerArn &&
          association.consumerRegion === undefined
        );
      case 'region':
        return association.consumerRegion === target.region && this.ownedBy(association, accountId);
      case 'account':
        // The brief's choice (AWS does not document it): the entire account means every
        // association the consumer account owns — account-level, region-wide and its namespaces.
        return this.ownedBy(association, accountId);
    }
  }

  private associationFromSeed(seed: AssociationSeed): DataShareAssociationState {
    const createdDate = new Date(seed.createdDate ?? SEEDED_ASSOCIATION_DATE);
    return {
      consumerIdentifier: seed.consumerArn ?? seed.account ?? this.consumerAccountId,
      status: seed.status,
      ...(seed.consumerRegion === undefined ? {} : { consumerRegion: seed.consumerRegion }),
      createdDate,
      statusChangeDate: seed.statusChangeDate ? new Date(seed.statusChangeDate) : createdDate,
      ...(seed.producerAllowedWrites === undefined
        ? {}
        : { producerAllowedWrites: seed.producerAllowedWrites }),
      ...(seed.consumerAcceptedWrites === undefined
        ? {}
        : { consumerAcceptedWrites: seed.consumerAcceptedWrites }),
    };
  }
}
