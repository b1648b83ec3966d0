package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// apiFlags locate the running switch's API.
type apiFlags struct {
	url   string
	token string
}

func (f *apiFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.url, "api", "", "API base URL (default: http://<http.listen> from the config)")
	cmd.Flags().StringVar(&f.token, "token", "", "API token (default: $SWITCHD_TOKEN, else <data_dir>/admin.token)")
}

// apiClient talks to the running switch: live state is changed through it, never through SQL.
type apiClient struct {
	base, token string
	http        *http.Client
}

func newAPIClient(cmd *cobra.Command, g *globalFlags, f *apiFlags) (*apiClient, error) {
	cfg, err := loadConfig(cmd, g.config)
	if err != nil {
		return nil, err
	}
	c := &apiClient{base: f.url, token: f.token, http: &http.Client{Timeout: 10 * time.Second}}
	if c.base == "" {
		host := cfg.HTTP.Listen
		host = strings.Replace(host, "0.0.0.0:", "127.0.0.1:", 1)
		host = strings.Replace(host, "[::]:", "[::1]:", 1)
		c.base = "http://" + host
	}
	if c.token == "" {
		c.token = os.Getenv("SWITCHD_TOKEN")
	}
	if c.token == "" {
		b, err := os.ReadFile(cfg.TokenPath())
		if err != nil {
			return nil, fmt.Errorf("no API token: pass --token, set SWITCHD_TOKEN, or run as the user that owns %s (%w)", cfg.TokenPath(), err)
		}
		c.token = strings.TrimSpace(string(b))
	}
	return c, nil
}

// post sends body (nil: none) as JSON to path and reads nothing back.
func (c *apiClient) post(path string, body any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		r = bytes.NewReader(b)
	}
	return c.do("POST", path, r, nil)
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (c *apiClient) do(method, path string, body io.Reader, out any) error {
	req, err := http.NewRequest(method, strings.TrimRight(c.base, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("is switchd running? %w", err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s: %s", res.Status, e.Error)
		}
		return errors.New(res.Status)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}
