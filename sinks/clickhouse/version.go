package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ServerVersion is a ClickHouse server release, as reported by
// SELECT version() (for example 18.16.1 or 24.8.4.13). Only the first
// three numbers are kept; schema choices depend on major.minor alone.
type ServerVersion struct {
	Major, Minor, Patch int
}

// ParseServerVersion parses the text of SELECT version(). It needs at
// least "major.minor"; any further components or suffixes are ignored.
func ParseServerVersion(s string) (ServerVersion, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 4)
	if len(parts) < 2 {
		return ServerVersion{}, fmt.Errorf("parse server version %q: want major.minor", s)
	}
	var nums [3]int
	for i := 0; i < len(parts) && i < 3; i++ {
		p := parts[i]
		if i == 2 {
			// A patch such as "1-lts" or "1" is fine; keep the leading digits.
			p = p[:len(p)-len(strings.TrimLeft(p, "0123456789"))]
			if p == "" {
				break
			}
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return ServerVersion{}, fmt.Errorf("parse server version %q: component %d (%q) is not a number", s, i+1, parts[i])
		}
		nums[i] = n
	}
	return ServerVersion{Major: nums[0], Minor: nums[1], Patch: nums[2]}, nil
}

// AtLeast reports whether v is major.minor or newer.
func (v ServerVersion) AtLeast(major, minor int) bool {
	if v.Major != major {
		return v.Major > major
	}
	return v.Minor >= minor
}

func (v ServerVersion) String() string {
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Features the schema depends on, by the first release that has them
// without extra settings.

// HasLowCardinality reports whether LowCardinality(String) works without
// the experimental setting that 18.x needs (it became regular in 19.0).
func (v ServerVersion) HasLowCardinality() bool { return v.AtLeast(19, 0) }

// HasDateTime64 reports whether the DateTime64 type exists (20.1 and later).
func (v ServerVersion) HasDateTime64() bool { return v.AtLeast(20, 1) }

// HasTTL reports whether MergeTree tables accept a TTL clause (19.6 and
// later). No migration uses TTL yet.
func (v ServerVersion) HasTTL() bool { return v.AtLeast(19, 6) }

// QueryServerVersion asks the server for its version with SELECT version().
func QueryServerVersion(ctx context.Context, conn driver.Conn) (ServerVersion, error) {
	var s string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&s); err != nil {
		return ServerVersion{}, fmt.Errorf("clickhouse: query server version: %w", err)
	}
	v, err := ParseServerVersion(s)
	if err != nil {
		return ServerVersion{}, fmt.Errorf("clickhouse: %w", err)
	}
	return v, nil
}
