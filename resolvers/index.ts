import type { Resolvers } from '../src/generated/graphql';
import { Actor } from './Actor';
import { AuditEvent } from './AuditEvent';
import { AuditEventActor, AuditEventActorReference } from './AuditEventActor';
import { AuditEventConnection } from './AuditEventConnection';
import { AuditEventEdge } from './AuditEventEdge';
import { AuditEventTarget } from './AuditEventTarget';
import { Mutation } from './Mutation';
import { Node } from './Node';
import { Query } from './Query';
import { scalars } from './scalars';
import { Source } from './Source';
import { SourceCapabilities } from './SourceCapabilities';
import { SourcePageStatus } from './SourcePageStatus';
import { Target } from './Target';

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
};
