package httpapi

import (
	"context"
	"net"
	"net/http"
	"testing"
)

// TestStartAllOrNone: when one address is taken, Start fails and releases the ones
// it had bound, leaving nothing half started.
func TestStartAllOrNone(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()
	a := &http.Server{Addr: freeAddr}
	b := &http.Server{Addr: taken.Addr().String()}
	if _, err := Start(a, b); err == nil {
		t.Fatal("Start succeeded on a taken address")
	}
	l, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Fatalf("the first address was left bound: %v", err)
	}
	l.Close()

	errs, err := Start(a)
	if err != nil {
		t.Fatal(err)
	}
	Shutdown(context.Background(), discard, a)
	select {
	case err := <-errs:
		t.Errorf("a shutdown reported as a failure: %v", err)
	default:
	}
}
