// Command evaluator is the read path of Switchyard: it evaluates flags for SDKs.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "evaluator: the service is not available yet")
	os.Exit(2)
}
