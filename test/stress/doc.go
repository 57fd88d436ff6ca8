// Package stress holds flowd's proof under stress: tests (build tag stress) that drive the real
// flowd binary, built once per run and started as a subprocess, against the CloudWatch Logs
// emulator and the traffic simulator running in the test process, scrape its /metrics over
// HTTP, and hold its counters against the simulator's ground truth. The kinesis scenario
// (TestKinesisReplicas) runs three replicas on one stream of the Kinesis and DynamoDB
// emulators instead, killing them and resharding while a producer writes subscription records,
// and holds the sum of their counts against the unique events put.
//
// Each scenario is bounded in time and prints one line, PASS or FAIL followed by its measured
// figures as key=value pairs. The CI version (scripts/ci.d/80-stress.sh) runs a short version of
// every scenario; -long runs bigger volumes and longer storms; -soak=30m runs a steady soak:
//
//	go test -tags stress -count=1 -timeout 12m -v ./test/stress/
//	go test -tags stress -count=1 -timeout 40m -v ./test/stress/ -args -long
//	go test -tags stress -count=1 -timeout 45m -v -run '^TestSoak$' ./test/stress/ -args -soak=30m
//
// docs/performance.md records the results, docs/operations.md what they mean for operators.
package stress
