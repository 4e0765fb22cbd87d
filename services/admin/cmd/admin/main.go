// Command admin is the write path of Switchyard: projects, environments, flags and
// their configurations, audited in PostgreSQL.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "admin: the service is not available yet")
	os.Exit(2)
}
