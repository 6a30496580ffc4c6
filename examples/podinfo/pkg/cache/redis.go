// Package cache is a minimal Redis client (RESP 2 over TCP) for podinfo's /cache API:
// GET, SET with an expiry, DEL and PING, one connection per call.
package cache

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned by Get for a key Redis does not hold.
var ErrNotFound = errors.New("not found")

// Client talks to one Redis server.
type Client struct {
	addr    string
	timeout time.Duration
}

// New returns a client for an address `tcp://host:port` (podinfo's --cache-server) or
// `host:port`.
func New(server string, timeout time.Duration) (*Client, error) {
	addr := server
	if strings.Contains(server, "://") {
		u, err := url.Parse(server)
		if err != nil || u.Scheme != "tcp" || u.Host == "" {
			return nil, fmt.Errorf("cache server %q: want tcp://host:port", server)
		}
		addr = u.Host
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("cache server %q: %v", server, err)
	}
	return &Client{addr: addr, timeout: timeout}, nil
}

// Addr is the server's host:port.
func (c *Client) Addr() string { return c.addr }

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.do(ctx, "PING")
	return err
}

// Get returns the value of key, or ErrNotFound.
func (c *Client) Get(ctx context.Context, key string) (string, error) {
	v, err := c.do(ctx, "GET", key)
	if err != nil {
		return "", err
	}
	if v == nil {
		return "", ErrNotFound
	}
	return *v, nil
}

// Set stores value under key for ttl.
func (c *Client) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	_, err := c.do(ctx, "SET", key, value, "PX", strconv.FormatInt(ttl.Milliseconds(), 10))
	return err
}

// Del removes key.
func (c *Client) Del(ctx context.Context, key string) error {
	_, err := c.do(ctx, "DEL", key)
	return err
}

// do sends one command and reads one reply: a simple string, an integer or a bulk
// string (nil for Redis' null bulk string).
func (c *Client) do(ctx context.Context, args ...string) (*string, error) {
	d := net.Dialer{Timeout: c.timeout}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	deadline := time.Now().Add(c.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)

	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return nil, err
	}

	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("redis: empty reply")
	}
	switch line[0] {
	case '+', ':':
		s := line[1:]
		return &s, nil
	case '-':
		return nil, fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, fmt.Errorf("redis: bad bulk length %q", line)
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		s := string(buf[:n])
		return &s, nil
	default:
		return nil, fmt.Errorf("redis: unexpected reply %q", line)
	}
}
