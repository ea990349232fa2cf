import { portModule } from '../../src/vendors/port';
import { describeDataSourceContract } from './datasource-contract';

describeDataSourceContract(portModule);
