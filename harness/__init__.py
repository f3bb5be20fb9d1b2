"""What the tests, the benchmarks and the demo share: the terraform CLI configuration and runner, the local
AWS emulator and its clients, scratch copies of examples, and the IAM policy evaluator."""
