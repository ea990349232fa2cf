import type { Resolvers } from '../src/generated/graphql';
import { Actor } from './Actor';
import { AuditEvent } from './AuditEvent';
import { AuditEventActor, AuditEventActorReference } from './AuditEventActor';
import { AuditEventConnection } from './AuditEventConnection';
import { AuditEventEdge } from './AuditEventEdge';
import { AuditEventTarget } from './AuditEventTarget';
import { AuditExport } from './AuditExport';
import { AuditExportSourceStatus } from './AuditExportSourceStatus';
import { ChainRewalk } from './ChainRewalk';
import { ComplianceHistory } from './ComplianceHistory';
import { EvidenceExport } from './EvidenceExport';
import { IntegrityVerification } from './IntegrityVerification';
import { Mutation } from './Mutation';
import { Node } from './Node';
import { Query } from './Query';
import { RetentionPolicy } from './RetentionPolicy';
import { scalars } from './scalars';
import { Source } from './Source';
import { SourceCapabilities } from './SourceCapabilities';
import { SourcePageStatus } from './SourcePageStatus';
import { Soc2Evidence } from './Soc2Evidence';
import { Target } from './Target';
import { VendorIntegrityVerdict } from './VendorIntegrityVerdict';
import { AuditSearchConnection } from './AuditSearchConnection';
import { AuditSearchEdge } from './AuditSearchEdge';
import { AuditSearchHit } from './AuditSearchHit';
import { AuditStatistics } from './AuditStatistics';
import { SearchSourceStatus } from './SearchSourceStatus';
import { SourceCount } from './SourceCount';
import { StatisticsSourceStatus } from './StatisticsSourceStatus';

/** Every resolver, typed against the schema by GraphQL Code Generator. */
export const resolvers: Resolvers = {
  ...scalars,
  Query,
  Mutation,
  Node,
  AuditEvent,
  AuditEventActor,
  AuditEventActorReference,
  AuditEventTarget,
  Actor,
  Target,
  Source,
  SourceCapabilities,
  AuditEventConnection,
  AuditEventEdge,
  SourcePageStatus,
  AuditExport,
  AuditExportSourceStatus,
  EvidenceExport,
  IntegrityVerification,
  VendorIntegrityVerdict,
  ChainRewalk,
  ComplianceHistory,
  RetentionPolicy,
  Soc2Evidence,
  AuditStatistics,
  StatisticsSourceStatus,
  SourceCount,
  AuditSearchConnection,
  AuditSearchEdge,
  AuditSearchHit,
  SearchSourceStatus,
};
