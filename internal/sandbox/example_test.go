package sandbox_test

import (
	"context"
	"fmt"

	"github.com/mailsetup/mailsetup/internal/sandbox"
)

// A test starts a world, hands its Env to the code under test, and asks the
// recorder afterwards where the password went.
func ExampleStart() {
	ctx := context.Background()
	w, err := sandbox.Start(ctx, sandbox.Options{Scenarios: []string{"demo"}})
	if err != nil {
		panic(err)
	}
	defer w.Close()

	env := w.Env()
	srv, _, err := env.Resolver.LookupSRV(ctx, "_imaps._tcp.demo.test")
	if err != nil {
		panic(err)
	}
	fmt.Println(srv[0].Target, srv[0].Port)
	fmt.Println(w.PasswordSeenBy("imap.demo.test"))
	// Output:
	// imap.demo.test 993
	// false
}
