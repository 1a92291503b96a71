package authz

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A jwksFile is bounded like a fetched JWKS: a device or FIFO must not block start-up
// and an oversized file must not be read whole.
func TestJWKSFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"keys":[`+strings.Repeat(" ", 4096)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, want string }{
		{"device", "/dev/zero", "not a regular file"},
		{"oversized", big, "larger than keys.maxResponseBytes (1024)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".yaml")
			yaml := "issuers:\n  - issuer: https://idp.example\n    jwksFile: " + tc.file + "\nkeys:\n  maxResponseBytes: 1024\n"
			if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path)
			if err == nil {
				t.Fatalf("LoadFile accepted jwksFile %s", tc.file)
			}
			for _, want := range []string{path, "issuers[0].jwksFile", tc.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}
