import {
  DateTimeResolver,
  EmailAddressResolver,
  IPResolver,
  JSONObjectResolver,
  JSONResolver,
  LocalDateResolver,
  NonNegativeIntResolver,
  PositiveIntResolver,
  URLResolver,
} from 'graphql-scalars';
import { GraphQLScalarType } from 'graphql';

/** Scalars from graphql-scalars; `Date` is a calendar date kept as its `YYYY-MM-DD` string. */
export const scalars = {
  DateTime: DateTimeResolver,
  Date: new GraphQLScalarType({ ...LocalDateResolver.toConfig(), name: 'Date' }),
  JSON: JSONResolver,
  JSONObject: JSONObjectResolver,
  EmailAddress: EmailAddressResolver,
  IP: IPResolver,
  URL: new GraphQLScalarType({ ...URLResolver.toConfig(), serialize: (value: unknown) => String(value) }),
  PositiveInt: PositiveIntResolver,
  NonNegativeInt: NonNegativeIntResolver,
};
