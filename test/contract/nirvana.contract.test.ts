import { nirvanaModule } from '../../src/vendors/nirvana';
import { describeDataSourceContract } from './datasource-contract';

describeDataSourceContract(nirvanaModule);
