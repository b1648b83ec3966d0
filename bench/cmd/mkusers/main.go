// Command mkusers creates many extensions in a switchd database directly (the
// CLI adds one per process, which is slow for a benchmark's 10,000 users) and
// writes the matching sipp injection file.
//
//	go run ./bench/cmd/mkusers -db DATA_DIR/switchd.db -n 10000 -first 100000 -csv users.csv
//
// Extension N gets the password "pw"+N; kamailio.cfg in this directory
// derives the same password from the user name.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"

	"github.com/switchd/switchd/internal/accounts"
	"github.com/switchd/switchd/internal/store"
)

func main() {
	db := flag.String("db", "", "switchd database file (DATA_DIR/switchd.db); empty: only write the CSV")
	n := flag.Int("n", 10000, "number of extensions")
	first := flag.Int("first", 100000, "first extension number")
	realm := flag.String("realm", "switchd", "digest realm (sip.realm of the config)")
	csvPath := flag.String("csv", "", "sipp injection file to write (SEQUENTIAL)")
	domain := flag.String("domain", "127.0.0.1", "domain of the From/To URIs in the CSV")
	flag.Parse()
	ctx := context.Background()

	if *db != "" {
		st, err := store.Open(ctx, *db, store.Options{})
		if err != nil {
			log.Fatal(err)
		}
		acc := accounts.New(st, *realm)
		for i := 0; i < *n; i++ {
			num := strconv.Itoa(*first + i)
			if err := acc.Add(ctx, num, "bench "+num, "pw"+num); err != nil {
				st.Close()
				log.Fatalf("add %s: %v", num, err)
			}
		}
		if err := st.Close(); err != nil {
			log.Fatal(err)
		}
	}
	if *csvPath != "" {
		f, err := os.Create(*csvPath)
		if err != nil {
			log.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fmt.Fprintln(w, "SEQUENTIAL")
		for i := 0; i < *n; i++ {
			num := strconv.Itoa(*first + i)
			fmt.Fprintf(w, "%s;pw%s;%s;[authentication username=%s password=pw%s]\n", num, num, *domain, num, num)
		}
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
}
