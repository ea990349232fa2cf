import { agilicusModule } from '../../src/vendors/agilicus';
import { describeDataSourceContract } from './datasource-contract';

describeDataSourceContract(agilicusModule);
