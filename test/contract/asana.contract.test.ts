import { asanaModule } from '../../src/vendors/asana';
import { describeDataSourceContract } from './datasource-contract';

describeDataSourceContract(asanaModule);
