/**
 * The layer rules of sentio-gateway, checked by `npm test` (dependency-cruiser). A violation
 * fails the run with the rule's name. The data path: a source (feed/) makes market events,
 * a transform (bars/) makes price events of them, a sink (kafka/) writes them; ops/ watch;
 * only the composition root (gateway/, with cli/ and main.ts) knows them all.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle means two modules are one concept, or one of them is in the wrong room.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'contracts-import-nothing',
      comment: 'The wire contracts are the shared vocabulary: they depend on nothing of ours.',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: '^src/', pathNot: '^src/contracts/' },
    },
    {
      name: 'ops-import-nothing',
      comment: 'Metrics, health, logging and throttling are generic: they know no stage.',
      severity: 'error',
      from: { path: '^src/ops/' },
      to: { path: '^src/', pathNot: '^src/ops/' },
    },
    {
      name: 'config-imports-only-contracts',
      comment: 'Settings are validated against the contracts (ENV is a header value), nothing else.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/(config|contracts)/' },
    },
    {
      name: 'clock-imports-only-contracts',
      comment: 'Market time and the feed clock sit below every stage.',
      severity: 'error',
      from: { path: '^src/clock/' },
      to: { path: '^src/', pathNot: '^src/(clock|contracts)/' },
    },
    {
      name: 'stages-do-not-import-each-other',
      comment: 'feed and replay (sources), bars (transform) and kafka (sink) meet only in the composition root; each declares what it needs as an interface.',
      severity: 'error',
      from: { path: '^src/(feed|replay|bars|kafka)/' },
      to: { path: '^src/(feed|replay|bars|kafka)/', pathNot: '^src/$1/' },
    },
    {
      name: 'only-the-root-assembles',
      comment: 'Nothing below the composition root (gateway/, cli/, main.ts) imports it.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(gateway|cli)/', '^src/main\\.ts$'] },
      to: { path: ['^src/(gateway|cli)/', '^src/main\\.ts$'] },
    },
    {
      name: 'production-never-loads-dev-code',
      comment: 'The simulator and the embedded broker are loaded with import() by the root only when wanted; types are free.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(sim|dev)/' },
      to: { path: '^src/(sim|dev)/', dependencyTypesNot: ['dynamic-import', 'type-only'] },
    },
    {
      name: 'only-the-root-loads-dev-code',
      comment: 'Even lazily, only the composition root decides to run the simulator or the embedded broker.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(sim|dev|gateway)/', '^src/main\\.ts$'] },
      to: { path: '^src/(sim|dev)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-never-imports-tests-or-bench',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|harness)/' },
    },
    {
      name: 'kafkajs-through-its-door',
      comment: 'kafkajs 2.2.4 is patched at load (src/kafka/kafkajs-fixes.ts): every use goes through src/kafka/kafkajs.ts.',
      severity: 'error',
      // The fixes' own test compares them with the kafkajs internals they replace.
      from: { pathNot: ['^src/kafka/kafkajs(-fixes)?\\.ts$', '^test/unit/kafkajs-(buffer-)?fixes\\.test\\.ts$'] },
      to: { path: 'node_modules/kafkajs/', pathNot: 'node_modules/kafkajs/package\\.json$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that resolves to nothing on disk.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
