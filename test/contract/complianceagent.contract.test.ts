import { complianceAgentModule } from '../../src/vendors/complianceagent';
import { describeDataSourceContract } from './datasource-contract';

describeDataSourceContract(complianceAgentModule);
