/**
 * The records ComplianceAgent's extra endpoints answer with. They are the vendor-neutral records
 * of the datasource contract's optional operations (`sources/compliance.ts`), re-exported here so
 * the vendor's code and tests name them where they use them.
 */
export type {
  ChainProblemKind,
  ChainProblemModel,
  ChainRewalkModel,
  ComplianceHistoryInput,
  ComplianceHistoryModel,
  ComplianceMetric,
  ComplianceStatisticsModel,
  ComplianceTrend,
  EvidenceContent,
  EvidenceExportModel,
  EvidenceExportStatus,
  HistoryInterval,
  IntegrityVerificationModel,
  IntegrityWindow,
  KeyCountModel,
  RetentionPolicyModel,
  RetentionRuleModel,
  SearchField,
  SearchHitModel,
  SearchResultModel,
  Soc2EvidenceInput,
  Soc2EvidenceItemModel,
  Soc2EvidenceModel,
  StartEvidenceExportInput,
} from '../../sources/compliance';
