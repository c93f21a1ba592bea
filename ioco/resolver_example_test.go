package ioco_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A Resolver whose hosts file knows the name: the lookup asks no
// nameserver. Its fields point it at files of its own; the zero Resolver
// reads /etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf.
func ExampleResolver_LookupHost() {
	dir, err := os.MkdirTemp("", "resolver")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	hosts := filepath.Join(dir, "hosts")
	nsswitch := filepath.Join(dir, "nsswitch.conf")
	os.WriteFile(hosts, []byte("192.0.2.10 printer.lan printer\n2001:db8::10 printer.lan\n"), 0o644)
	os.WriteFile(nsswitch, []byte("hosts: files dns\n"), 0o644)
	r := &ioco.Resolver{
		Conf:         &ioco.ResolvConf{Nameservers: []string{"127.0.0.1:53"}},
		HostsFile:    hosts,
		NSSwitchFile: nsswitch,
	}
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		addrs, err := r.LookupHost(ctx, "printer.lan") // may park this task only
		fmt.Println(addrs, err)
		names, err := r.LookupAddr(ctx, "192.0.2.10")
		fmt.Println(names, err)
		return nil
	})
	// Output:
	// [192.0.2.10 2001:db8::10] <nil>
	// [printer.lan. printer.] <nil>
}
