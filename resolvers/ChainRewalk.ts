import type { ChainRewalkResolvers } from '../src/generated/graphql';

export const ChainRewalk: ChainRewalkResolvers = {
  problems: (rewalk, { first }) => rewalk.problems.slice(0, first),
};
