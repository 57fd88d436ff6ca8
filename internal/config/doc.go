// Package config loads flowd's YAML configuration file.
//
// Loading follows blackbox_exporter's config package: defaults are applied before decoding,
// decoding is strict (an unknown key is an error naming its line and YAML path), and
// validation reports every problem at once with errors.Join, each naming the YAML path and
// how to fix it. The file form (File) mirrors the YAML; Load turns it into the runtime form
// (Config), where formats are compiled and durations, shards and start positions are typed.
package config
