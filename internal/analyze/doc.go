// Package analyze is `flowd analyze`: the daemon's parse and aggregate over files or standard
// input, printed as a table or as JSON.
//
// Inputs are read in 1 MiB chunks; each chunk becomes one string and its lines are parsed in
// place, on a pool of workers, into reused batches of records (no copy or allocation per line),
// which one more goroutine, the only one that touches the aggregator, counts. The top lists are
// sketch estimates: batches are counted in the order the workers finish them, so two runs over
// the same input can list different entries within the reported error bounds; every count is
// exact and the same.
// gzip is recognised by its magic number, whatever the file name; concatenated gzip members
// (as S3 writes them) are read in full. A header line of field names (S3 plain-text exports; one
// per object, so concatenated objects have several, possibly of different formats) sets the
// format of the lines after it, up to the next header; a UTF-8 byte-order mark before a line is
// ignored. Lines before any header are read in the --record-format formats (the version 2
// default if unset; --log-format is its deprecated old name): with several, each line in the one of its field count (parse.Matcher), and a line of
// no format is malformed ("unmatched"). Lines longer than --max-line-bytes (64 KiB) are
// malformed, however long they are. Format warnings (a misspelled field, a format that cannot
// count flows) go to stderr and to the report.
//
// A Parquet object (S3's other file format) is refused with one message naming it.
//
// Transit gateway records have no action: they are counted apart (the "tgw" section), never in
// flows, totals, ports or interfaces.
//
// The aggregator runs with high caps (--max-ports 20000, --max-interfaces 100000) so that
// offline answers are exact, and with one window of --window (7 days, 6-hour buckets) ending
// with the newest record: the top lists cover the input's last 7 days; older flows are in every
// count and reported as late.
//
// # JSON schema (--output json)
//
// Stable keys; lists are never null.
//
//	files[]                 name, format (canonical ${...} form, the first of formats),
//	                        formats[] (every format the input was read in), header (the
//	                        input has S3 header lines), lines, records, malformed, error (only for
//	                        an input that could not be read in full: why and where)
//	warnings[]              format warnings: unknown fields (with the nearest known name),
//	                        formats with no way to count flows
//	records                 lines parsed into records (flows, NODATA, SKIPDATA, uncounted)
//	malformed               lines that did not parse, or were too long
//	malformed_reasons       {reason: lines}: field_count, bad_number, out_of_range,
//	                        bad_address, bad_enum, line_too_long, unmatched
//	malformed_examples[]    the first 10: file, line (1-based), reason, error
//	flows                   records counted as flows
//	nodata, skipdata        NODATA and SKIPDATA records
//	uncounted               {reason: records} parsed but not countable: no_action,
//	                        no_packets, no_bytes, no_protocol, no_port
//	late, future, untimed   flows that started before the window ending at the newest record
//	                        (the same whatever the input order), after the clock, without start
//	window_start            start of the top lists' window (null without records)
//	newest_start            newest record start (null without records)
//	totals                  {ACCEPT|REJECT: {flows, packets, bytes}}
//	ports[]                 action, protocol (IANA number), port (service port, see
//	                        internal/aggregate), other (true: folded by --max-ports, port 0),
//	                        flows, packets, bytes; by action, then most flows first
//	interfaces[]            action, interface_id ("other": folded, "-": none), flows, packets,
//	                        bytes; by action, then most flows first
//	interface_status[]      interface_id, nodata, skipdata
//	folded                  port_records, port_distinct_keys, interface_records,
//	                        interface_distinct_keys
//	top_talkers[]           src, dst, bytes, max_error (Space-Saving estimate)
//	top_rejected_sources[]  src, flows, max_error, distinct_ports (exact up to 64),
//	                        ports_saturated (more than 64)
//	scan_candidates[]       as top_rejected_sources, distinct_ports >= --scan-ports
//	tgw                     transit gateway records: records, flows, nodata, skipdata,
//	                        uncounted, totals {flows, packets, bytes}, attachments[]
//	                        (tgw_attachment_id, flows, packets, bytes; most bytes first),
//	                        packets_lost[] (tgw_attachment_id, reason, packets)
//
// # Exit codes
//
// 0: the summary was printed, even with malformed lines (they are in it). 1: an input could not
// be read (missing or unreadable file, truncated gzip): each such input is named on stderr with
// where it broke (its complete lines, the byte offset and, for gzip, the offset in the file) and
// in files[].error; the summary, printed all the same, counts the other inputs and the complete
// lines read before each failure. 2: bad flags or format string. 130 and 143: stopped by SIGINT
// or SIGTERM, at once (also while blocked opening or reading a FIFO or pipe), with no summary.
// Errors go to stderr.
//
// # Command line
//
// The flags are kingpin's, registered on flowd's CLI (Register), so flowd's global flags go
// before the command: flowd --log.level=debug analyze --output json FILE. The single-dash
// spellings of the standard flag package it had before (-output json) are rewritten with a
// deprecation warning (UpgradeArgs).
package analyze
