package main

import (
	"bytes"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The rendered configuration is what the server reads: every port and name lands where the
// server looks for it, and nothing is left unfilled.
func TestRenderConfig(t *testing.T) {
	st := &state{PGPort: 5544, Ports: ports{
		Frontend: 21001, FrontendHTTP: 21002, FrontendMembership: 21003,
		History: 21004, HistoryMembership: 21005, Matching: 21006, MatchingMembership: 21007,
		Worker: 21008, WorkerMembership: 21009, Metrics: 21010,
	}}
	b, err := render(values(st, "/srv/dyn.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type rpc struct {
		GRPCPort       int  `yaml:"grpcPort"`
		HTTPPort       int  `yaml:"httpPort"`
		MembershipPort int  `yaml:"membershipPort"`
		BindOnLocal    bool `yaml:"bindOnLocalHost"`
	}
	type sqlStore struct {
		SQL struct {
			PluginName   string `yaml:"pluginName"`
			DatabaseName string `yaml:"databaseName"`
			ConnectAddr  string `yaml:"connectAddr"`
			User         string `yaml:"user"`
		} `yaml:"sql"`
	}
	var cfg struct {
		Persistence struct {
			NumHistoryShards int                 `yaml:"numHistoryShards"`
			DefaultStore     string              `yaml:"defaultStore"`
			VisibilityStore  string              `yaml:"visibilityStore"`
			Datastores       map[string]sqlStore `yaml:"datastores"`
		} `yaml:"persistence"`
		Global struct {
			Metrics struct {
				Prometheus struct {
					ListenAddress string `yaml:"listenAddress"`
				} `yaml:"prometheus"`
			} `yaml:"metrics"`
		} `yaml:"global"`
		Services map[string]struct {
			RPC rpc `yaml:"rpc"`
		} `yaml:"services"`
		ClusterMetadata struct {
			ClusterInformation map[string]struct {
				RPCAddress string `yaml:"rpcAddress"`
			} `yaml:"clusterInformation"`
		} `yaml:"clusterMetadata"`
		DynamicConfigClient struct {
			Filepath string `yaml:"filepath"`
		} `yaml:"dynamicConfigClient"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("rendered config is not YAML: %v\n%s", err, b)
	}

	p := cfg.Persistence
	if p.NumHistoryShards != historyShards {
		t.Errorf("numHistoryShards = %d, want %d", p.NumHistoryShards, historyShards)
	}
	for store, db := range map[string]string{p.DefaultStore: defaultDB, p.VisibilityStore: visibilityDB} {
		ds, ok := p.Datastores[store]
		if !ok {
			t.Errorf("store %q is not among the datastores", store)
			continue
		}
		if ds.SQL.PluginName != "postgres12" || ds.SQL.DatabaseName != db || ds.SQL.ConnectAddr != "127.0.0.1:5544" || ds.SQL.User != serverRole {
			t.Errorf("store %q = %+v, want postgres12 database %s at 127.0.0.1:5544 as %s", store, ds.SQL, db, serverRole)
		}
	}
	want := map[string]rpc{
		"frontend": {21001, 21002, 21003, true},
		"history":  {21004, 0, 21005, true},
		"matching": {21006, 0, 21007, true},
		"worker":   {21008, 0, 21009, true},
	}
	if len(cfg.Services) != len(want) {
		t.Errorf("services = %v, want frontend, history, matching and worker", cfg.Services)
	}
	for name, w := range want {
		if got := cfg.Services[name].RPC; got != w {
			t.Errorf("services.%s.rpc = %+v, want %+v", name, got, w)
		}
	}
	if got := cfg.Global.Metrics.Prometheus.ListenAddress; got != "127.0.0.1:21010" {
		t.Errorf("metrics listen address = %q", got)
	}
	if got := cfg.ClusterMetadata.ClusterInformation["active"].RPCAddress; got != "127.0.0.1:21001" {
		t.Errorf("cluster rpcAddress = %q, want the frontend", got)
	}
	if cfg.DynamicConfigClient.Filepath != "/srv/dyn.yaml" {
		t.Errorf("dynamic config file = %q", cfg.DynamicConfigClient.Filepath)
	}
}

// The server stores its services' ports in a smallint column: every port chosen fits, and
// none is chosen twice.
func TestServerPortsFitSmallint(t *testing.T) {
	taken := map[int]bool{}
	for range 50 {
		p, err := serverPort(taken)
		if err != nil {
			t.Fatal(err)
		}
		if p <= 0 || p > 32767 {
			t.Fatalf("port %d does not fit a smallint", p)
		}
	}
	if len(taken) != 50 {
		t.Fatalf("%d distinct ports for 50 picks", len(taken))
	}
}
