// Command launcher runs one command and reports its wall time and peak
// memory, for BenchmarkMirror.
//
//	launcher PROGRAM [ARG...]
//
// It starts PROGRAM (a path) with the launcher's environment, working
// directory and standard streams, waits for it, writes "WALL_NS MAXRSS_KIB
// CPU_NS" (CPU: user and system time of PROGRAM and the children it
// waited for) to file descriptor 3 and exits with PROGRAM's exit status.
//
// It exists because on Linux exec stores the old address space's RSS
// high-water mark in the new program's ru_maxrss (fs/exec.c, exec_mmap →
// setmax_mm_hiwater_rss), and Go starts children with CLONE_VM, so the old
// address space is the parent's. A command started straight from the
// benchmark process (tens of MiB, with the forge in it) would report at
// least that much. This program is deliberately tiny (no os/exec, no
// fmt), so the floor it adds to the figures is about 2 MiB.
package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: launcher PROGRAM [ARG...]\n")
		os.Exit(2)
	}
	start := time.Now()
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		os.Stderr.WriteString("launcher: " + os.Args[1] + ": " + err.Error() + "\n")
		os.Exit(127)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err = syscall.Wait4(pid, &ws, 0, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	wall := time.Since(start)
	if err != nil {
		os.Stderr.WriteString("launcher: wait: " + err.Error() + "\n")
		os.Exit(2)
	}
	report := os.NewFile(3, "report")
	cpu := ru.Utime.Nano() + ru.Stime.Nano()
	report.WriteString(strconv.FormatInt(int64(wall), 10) + " " + strconv.FormatInt(ru.Maxrss, 10) + " " +
		strconv.FormatInt(cpu, 10) + "\n")
	report.Close()
	switch {
	case ws.Exited():
		os.Exit(ws.ExitStatus())
	case ws.Signaled():
		os.Exit(128 + int(ws.Signal()))
	}
	os.Exit(2)
}
