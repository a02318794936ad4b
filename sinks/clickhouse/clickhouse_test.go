package clickhouse

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

func TestParseServerVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    ServerVersion
		wantErr bool
	}{
		{in: "18.16.1", want: ServerVersion{18, 16, 1}},
		{in: "24.8.4.13", want: ServerVersion{24, 8, 4}},
		{in: " 20.1 ", want: ServerVersion{20, 1, 0}},
		{in: "23.8.1-lts", want: ServerVersion{23, 8, 1}},
		{in: "25.3.2.39-stable", want: ServerVersion{25, 3, 2}},
		{in: "", wantErr: true},
		{in: "18", wantErr: true},
		{in: "x.16.1", wantErr: true},
		{in: "18.y.1", wantErr: true},
		{in: "-1.2.3", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseServerVersion(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseServerVersion(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseServerVersion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestServerVersionFeatures(t *testing.T) {
	tests := []struct {
		v                             ServerVersion
		atLeast19, lowCard, dt64, ttl bool
	}{
		{v: ServerVersion{18, 16, 1}},
		{v: ServerVersion{19, 0, 0}, atLeast19: true, lowCard: true},
		{v: ServerVersion{19, 5, 9}, atLeast19: true, lowCard: true},
		{v: ServerVersion{19, 6, 0}, atLeast19: true, lowCard: true, ttl: true},
		{v: ServerVersion{19, 17, 0}, atLeast19: true, lowCard: true, ttl: true},
		{v: ServerVersion{20, 1, 0}, atLeast19: true, lowCard: true, dt64: true, ttl: true},
		{v: ServerVersion{24, 8, 4}, atLeast19: true, lowCard: true, dt64: true, ttl: true},
	}
	for _, tt := range tests {
		if got := tt.v.AtLeast(19, 0); got != tt.atLeast19 {
			t.Errorf("%v.AtLeast(19, 0) = %v", tt.v, got)
		}
		if got := tt.v.HasLowCardinality(); got != tt.lowCard {
			t.Errorf("%v.HasLowCardinality() = %v", tt.v, got)
		}
		if got := tt.v.HasDateTime64(); got != tt.dt64 {
			t.Errorf("%v.HasDateTime64() = %v", tt.v, got)
		}
		if got := tt.v.HasTTL(); got != tt.ttl {
			t.Errorf("%v.HasTTL() = %v", tt.v, got)
		}
	}
	if v := (ServerVersion{18, 16, 1}); !v.AtLeast(18, 16) || v.AtLeast(18, 17) || !v.AtLeast(17, 99) {
		t.Errorf("AtLeast around 18.16 is wrong")
	}
}

// flagFields returns the json names of detectors.Flag, in field order:
// the column names the tables must have.
func flagFields(t *testing.T) []string {
	t.Helper()
	var names []string
	typ := reflect.TypeFor[detectors.Flag]()
	for i := range typ.NumField() {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if tag == "" {
			t.Fatalf("detectors.Flag.%s has no json name", typ.Field(i).Name)
		}
		names = append(names, tag)
	}
	return names
}

// storageColumns are the columns of flags that are not fields of
// detectors.Flag: the id of the key that sealed the evidence (migration 4).
var storageColumns = []string{"evidence_key_id"}

func TestFlagColumnsMatchFlag(t *testing.T) {
	got := strings.Split(flagColumns, ", ")
	if want := append(flagFields(t), storageColumns...); !slices.Equal(got, want) {
		t.Errorf("flagColumns = %v\nwant the fields of detectors.Flag, then %v: %v", got, storageColumns, want)
	}
}

func TestCreateFlagsTable(t *testing.T) {
	tests := []struct {
		v            ServerVersion
		strType      string
		timeType     string
		notContained string
	}{
		{ServerVersion{18, 16, 1}, "String", "DateTime('UTC')", "LowCardinality"},
		{ServerVersion{19, 17, 0}, "LowCardinality(String)", "DateTime('UTC')", "DateTime64"},
		{ServerVersion{20, 1, 2}, "LowCardinality(String)", "DateTime64(3, 'UTC')", "TTL"},
		{ServerVersion{24, 8, 4}, "LowCardinality(String)", "DateTime64(3, 'UTC')", "TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.v.String(), func(t *testing.T) {
			ddl := createFlagsTable("goshawk", tt.v)
			cols := map[string]string{}
			var order []string
			for _, line := range strings.Split(ddl, "\n") {
				if !strings.HasPrefix(line, "    ") { // column lines are indented
					continue
				}
				name, typ, _ := strings.Cut(strings.TrimSpace(strings.TrimSuffix(line, ",")), " ")
				cols[name] = strings.TrimSpace(typ)
				order = append(order, name)
			}
			// Migration 1's table; migration 2 adds rule_version and mode
			// (the integration test checks the migrated table's order).
			want := slices.DeleteFunc(append(flagFields(t), "inserted_at"), func(c string) bool {
				return c == "rule_version" || c == "mode"
			})
			if !slices.Equal(order, want) {
				t.Fatalf("columns %v, want %v\n%s", order, want, ddl)
			}
			for _, c := range []string{"category", "detector", "rule", "severity"} {
				if cols[c] != tt.strType {
					t.Errorf("%s is %s, want %s", c, cols[c], tt.strType)
				}
			}
			for _, c := range []string{"sent_at", "detected_at"} {
				if cols[c] != tt.timeType {
					t.Errorf("%s is %s, want %s", c, cols[c], tt.timeType)
				}
			}
			if cols["recipient_ids"] != "Array(String)" || cols["score"] != "Float64" {
				t.Errorf("recipient_ids %s, score %s", cols["recipient_ids"], cols["score"])
			}
			for _, s := range []string{
				"CREATE TABLE IF NOT EXISTS `goshawk`.`flags`",
				"ENGINE = ReplacingMergeTree(inserted_at)",
				"PARTITION BY toYYYYMM(sent_at)",
				"ORDER BY (category, conversation_id, sent_at, flag_id)",
			} {
				if !strings.Contains(ddl, s) {
					t.Errorf("DDL lacks %q:\n%s", s, ddl)
				}
			}
			if strings.Contains(ddl, tt.notContained) {
				t.Errorf("DDL for %v contains %q:\n%s", tt.v, tt.notContained, ddl)
			}
		})
	}
}

func TestMigrationsNumbering(t *testing.T) {
	ms := migrations()
	if len(ms) == 0 {
		t.Fatal("no migrations")
	}
	for i, m := range ms {
		if m.Version != uint32(i+1) {
			t.Errorf("migration %d has version %d, want %d (numbered 1, 2, ... without gaps)", i, m.Version, i+1)
		}
		if m.Name == "" || (m.Statements == nil && m.Apply == nil) {
			t.Errorf("migration %d has no name or nothing to do", m.Version)
		}
		if m.Statements == nil {
			continue // Apply steps check the schema themselves (tested on the server)
		}
		for _, v := range []ServerVersion{{18, 16, 1}, {24, 8, 0}} {
			for _, stmt := range m.Statements("db", v) {
				if !strings.Contains(stmt, "IF NOT EXISTS") && !strings.Contains(stmt, "IF EXISTS") {
					t.Errorf("migration %d statement is not idempotent: %s", m.Version, stmt)
				}
			}
		}
	}
}

func TestConfigDefaultsAndDatabaseNames(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Addr, []string{DefaultAddr}) || c.Database != DefaultDatabase || c.DialTimeout != DefaultDialTimeout {
		t.Errorf("defaults = %+v", c)
	}
	for name, ok := range map[string]bool{
		"goshawk": true, "_x": true, "goshawk_test_17": true, "A1": true,
		"1db": false, "go-shawk": false, "db`; DROP": false, "dé": false, strings.Repeat("a", 129): false,
	} {
		if err := checkDatabase(name); (err == nil) != ok {
			t.Errorf("checkDatabase(%q) = %v, want ok %v", name, err, ok)
		}
	}
	if _, err := (Config{Database: "bad name"}).withDefaults(); err == nil {
		t.Error("withDefaults accepted a bad database name")
	}
}

func TestTimeBound(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		v        ServerVersion
		t        time.Time
		wantExpr string
		wantArg  string
	}{
		{ServerVersion{18, 16, 1}, time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC), "toDateTime(?, 'UTC')", "2026-01-31 23:59:59"},
		{ServerVersion{18, 16, 1}, time.Date(2026, 1, 31, 23, 59, 59, 1, time.UTC), "toDateTime(?, 'UTC')", "2026-02-01 00:00:00"},
		{ServerVersion{18, 16, 1}, time.Date(2026, 2, 1, 0, 30, 0, 500_000_000, cet), "toDateTime(?, 'UTC')", "2026-01-31 23:30:01"},
		{ServerVersion{20, 1, 0}, time.Date(2026, 1, 31, 23, 59, 59, 123_000_000, time.UTC), "toDateTime64(?, 3, 'UTC')", "2026-01-31 23:59:59.123"},
		{ServerVersion{24, 8, 0}, time.Date(2026, 1, 31, 23, 59, 59, 123_000_001, cet), "toDateTime64(?, 3, 'UTC')", "2026-01-31 22:59:59.124"},
	}
	for _, tt := range tests {
		expr, arg := timeBound(tt.v, tt.t)
		if expr != tt.wantExpr || arg != tt.wantArg {
			t.Errorf("timeBound(%v, %v) = %q, %q; want %q, %q", tt.v, tt.t, expr, arg, tt.wantExpr, tt.wantArg)
		}
	}
}
