// An alias's weighted routing as one value: `3=0.25` (version 3 gets 25 %).

export function describeRouting(routing) {
  return routing.map(({ version, weight }) => `${version}=${Number(weight.toFixed(4))}`).join(',');
}
