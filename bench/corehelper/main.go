// Command corehelper runs one mirror.Sync configured from the environment
// (see bench/corerun) and prints its result: BenchmarkMirror measures the
// sync core through it, in a process that links nothing else.
package main

import (
	"os"

	"github.com/gitee-mirror/gitee-mirror/bench/corerun"
)

func main() { os.Exit(corerun.Main()) }
