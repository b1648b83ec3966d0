package routing

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// DID entries and dial rules remember the line they were read from, so that
// Validate can name the earlier entry of a conflict by line ("overlaps
// dids[0] (line 12)"). yaml.v3 hands an Unmarshaler a node but decodes it
// with a fresh, non-strict decoder, so these methods check for unknown keys
// themselves and report them as the strict decoder would (config.Decode
// turns them into `unknown key "x"`).

// UnmarshalYAML decodes a dids entry strictly and records its line.
func (dc *DIDConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain DIDConfig
	var v plain
	if err := decodeStrict(n, &v, "DIDConfig", "a dids entry must be a mapping (number:, extension: …)"); err != nil {
		return err
	}
	*dc = DIDConfig(v)
	dc.line = n.Line
	return nil
}

// UnmarshalYAML decodes a dial_rules entry strictly and records its line.
func (rc *DialRuleConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain DialRuleConfig
	var v plain
	if err := decodeStrict(n, &v, "DialRuleConfig", "a dial_rules entry must be a mapping (name:, match:, trunks: …)"); err != nil {
		return err
	}
	*rc = DialRuleConfig(v)
	rc.line = n.Line
	return nil
}

// decodeStrict decodes the mapping n into out (a pointer to a struct),
// reporting unknown keys (with typeName) and type errors as a
// *yaml.TypeError so that the caller's decoder goes on.
func decodeStrict(n *yaml.Node, out any, typeName, notMapping string) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, notMapping)}}
	}
	var msgs []string
	unknownKeys(n, reflect.TypeOf(out).Elem(), "routing."+typeName, &msgs, 0)
	if err := n.Decode(out); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return err
		}
		msgs = append(msgs, te.Errors...)
	}
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// unknownKeys appends a "field X not found" message for every key of the
// mapping n (and of nested mappings of struct fields) that t has no field
// for, as yaml.v3's strict decoder words it.
func unknownKeys(n *yaml.Node, t reflect.Type, typeName string, msgs *[]string, depth int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if depth > 16 {
		return
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if reflect.PointerTo(t).Implements(unmarshalerType) {
			return
		}
		if t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode {
			for _, item := range n.Content {
				unknownKeys(item, t.Elem(), typeName, msgs, depth+1)
			}
			return
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag != "!!str" {
			unknownKeys(v, reflect.SliceOf(t), typeName, msgs, depth+1)
			continue
		}
		ft, ok := fields[k.Value]
		if !ok {
			*msgs = append(*msgs, fmt.Sprintf("line %d: field %s not found in type %s", k.Line, k.Value, typeName))
			continue
		}
		unknownKeys(v, ft, typeName, msgs, depth+1)
	}
}
