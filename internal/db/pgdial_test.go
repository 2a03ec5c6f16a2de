package db

import (
	"strings"
	"testing"
	"time"
)

// TestTCPParams: libpq's TCP parameters are taken out of the settings sent
// to the server and applied; a bad one is named without the address.
func TestTCPParams(t *testing.T) {
	const base = "postgres://smartmfa:pw-Zq81x@db.example.net/smartmfa?sslmode=disable"
	cfg, err := pgConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DialFunc == nil {
		t.Fatal("no DialFunc")
	}
	o, _ := takeTCPParams(map[string]string{})
	if o.userTimeout != pgUserTimeout || o.keepAlive.Idle != pgKeepIdle || o.keepAlive.Interval != pgKeepInterval || o.keepAlive.Count != pgKeepCount || o.noKeepAlive {
		t.Errorf("defaults: %+v", o)
	}

	params := map[string]string{"tcp_user_timeout": "2000", "keepalives_idle": "1", "keepalives_interval": "0",
		"keepalives_count": "2", "keepalives": "1", "search_path": "s"}
	o, err = takeTCPParams(params)
	if err != nil {
		t.Fatal(err)
	}
	if o.userTimeout != 2*time.Second || o.keepAlive.Idle != time.Second || o.keepAlive.Interval != -1 || o.keepAlive.Count != 2 || o.noKeepAlive {
		t.Errorf("from the address: %+v", o)
	}
	if len(params) != 1 {
		t.Errorf("left for the server: %v, want search_path alone", params)
	}
	if o, _ := takeTCPParams(map[string]string{"keepalives": "0", "tcp_user_timeout": "0"}); !o.noKeepAlive || o.userTimeout != 0 {
		t.Errorf("keepalives=0, tcp_user_timeout=0: %+v", o)
	}

	cfg, err = pgConfig(base + "&keepalives_idle=1&tcp_user_timeout=1500")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"keepalives_idle", "tcp_user_timeout"} {
		if _, ok := cfg.RuntimeParams[k]; ok {
			t.Errorf("%s would be sent to the server", k)
		}
	}

	for _, bad := range []string{"tcp_user_timeout=2s", "keepalives_idle=-1", "keepalives_count=many", "keepalives=yes"} {
		_, err := pgConfig(base + "&" + bad)
		name, _, _ := strings.Cut(bad, "=")
		switch {
		case err == nil:
			t.Errorf("%s: no error", bad)
		case !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "pw-Zq81x"):
			t.Errorf("%s: %v", bad, err)
		}
	}
}
