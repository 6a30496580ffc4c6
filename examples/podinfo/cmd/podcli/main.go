// Command podcli is podinfo's command-line client, shipped in the image beside the
// server for operators who exec into a pod:
//
//	podcli check http localhost:9898/readyz   exit 0 when the URL answers 2xx
//	podcli check tcp redis:6379               exit 0 when a connection opens
//	podcli version                            print the version
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"example.com/podinfo/pkg/version"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = "usage: podcli check http URL | podcli check tcp HOST:PORT | podcli version"

func run(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && args[0] == "version":
		fmt.Fprintln(stdout, version.VERSION)
		return 0
	case len(args) == 3 && args[0] == "check" && args[1] == "http":
		return checkHTTP(args[2], stdout, stderr)
	case len(args) == 3 && args[0] == "check" && args[1] == "tcp":
		return checkTCP(args[2], stdout, stderr)
	}
	fmt.Fprintln(stderr, usage)
	return 2
}

func checkHTTP(target string, stdout, stderr io.Writer) int {
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(target)
	if err != nil {
		fmt.Fprintf(stderr, "check http %s: %v\n", target, err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(stderr, "check http %s: %s\n", target, resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "check http %s: %s\n", target, resp.Status)
	return 0
}

func checkTCP(addr string, stdout, stderr io.Writer) int {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		fmt.Fprintf(stderr, "check tcp %s: %v\n", addr, err)
		return 1
	}
	conn.Close()
	fmt.Fprintf(stdout, "check tcp %s: open\n", addr)
	return 0
}
