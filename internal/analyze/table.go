package analyze

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// tableRows is how many rows each ranked section of the table shows.
const tableRows = 10

// writeTable prints the human summary.
func writeTable(out io.Writer, rep *Report) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }

	p("INPUT\tLINES\tRECORDS\tMALFORMED\tFORMAT\n")
	for _, f := range rep.Files {
		src := ""
		if f.Header {
			src = " (S3 header)"
		}
		names := make([]string, len(f.Formats))
		for i, spec := range f.Formats {
			names[i] = formatName(spec)
		}
		if f.Error != "" {
			src += " (FAILED, see stderr)"
		}
		p("%s\t%d\t%d\t%d\t%s%s\n", f.Name, f.Lines, f.Records, f.Malformed, strings.Join(names, " | "), src)
	}
	p("\nRECORDS\tFLOWS\tNODATA\tSKIPDATA\tUNCOUNTED\tMALFORMED\tLATE\t\n")
	var uncounted uint64
	for _, n := range rep.Uncounted {
		uncounted += n
	}
	p("%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", rep.Records, rep.Flows, rep.NoData, rep.SkipData, uncounted, rep.Malformed, rep.Late)

	p("\nACTION\tFLOWS\tPACKETS\tBYTES\t\n")
	for _, act := range []string{"ACCEPT", "REJECT"} {
		c := rep.Totals[act]
		p("%s\t%d\t%d\t%d\t\n", act, c.Flows, c.Packets, c.Bytes)
	}

	for _, act := range []string{"ACCEPT", "REJECT"} {
		p("\nTOP PORTS %s\tPROTOCOL\tFLOWS\tPACKETS\tBYTES\t\n", act)
		n := 0
		for _, r := range rep.Ports {
			if r.Action != act || n == tableRows {
				continue
			}
			n++
			port := strconv.Itoa(int(r.Port))
			if r.Other {
				port = "other"
			}
			p("%s\t%s\t%d\t%d\t%d\t\n", port, protocolName(r.Protocol), r.Flows, r.Packets, r.Bytes)
		}
	}

	p("\nREJECTS BY INTERFACE\tFLOWS\tPACKETS\tBYTES\t\n")
	n := 0
	for _, r := range rep.Interfaces {
		if r.Action == "REJECT" && n < tableRows {
			n++
			p("%s\t%d\t%d\t%d\t\n", r.InterfaceID, r.Flows, r.Packets, r.Bytes)
		}
	}

	if t := rep.TGW; t.Records > 0 {
		p("\nTRANSIT GATEWAY\tRECORDS\tFLOWS\tPACKETS\tBYTES\tNODATA\tSKIPDATA\tUNCOUNTED\t\n")
		p("(no action)\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Records, t.Flows, t.Totals.Packets, t.Totals.Bytes, t.NoData, t.SkipData, t.Uncounted)
		p("\nTOP TGW ATTACHMENTS\tFLOWS\tPACKETS\tBYTES\t\n")
		for i, r := range t.Attachments {
			if i < tableRows {
				p("%s\t%d\t%d\t%d\t\n", r.AttachmentID, r.Flows, r.Packets, r.Bytes)
			}
		}
		p("\nTGW PACKETS LOST\tREASON\tPACKETS\t\n")
		for i, r := range t.Lost {
			if i < tableRows {
				p("%s\t%s\t%d\t\n", r.AttachmentID, r.Reason, r.Packets)
			}
		}
	}

	p("\nTOP TALKERS\tDESTINATION\tBYTES\t\n")
	for _, t := range rep.TopTalkers {
		p("%s\t%s\t%s\t\n", t.Src, t.Dst, estimate(t.Bytes, t.MaxError))
	}
	p("\nTOP REJECTED SOURCES\tFLOWS\tDISTINCT PORTS\t\n")
	for _, r := range rep.TopRejected {
		p("%s\t%s\t%s\t\n", r.Src, estimate(r.Flows, r.MaxError), ports(r))
	}
	p("\nSCAN CANDIDATES\tFLOWS\tDISTINCT PORTS\t\n")
	for _, r := range rep.ScanCandidates {
		p("%s\t%s\t%s\t\n", r.Src, estimate(r.Flows, r.MaxError), ports(r))
	}
	if err := w.Flush(); err != nil {
		return err
	}

	if rep.Folded.PortRecords+rep.Folded.InterfaceRecords > 0 {
		fmt.Fprintf(out, "\nfolded into other: %d records of %d ports, %d records of %d interfaces (raise --max-ports / --max-interfaces)\n",
			rep.Folded.PortRecords, rep.Folded.PortDistinctKeys, rep.Folded.InterfaceRecords, rep.Folded.InterfaceDistinctKeys)
	}
	if rep.Late > 0 {
		fmt.Fprintf(out, "\n%d flows started more than --window before the newest record: counted above, not in the top lists\n", rep.Late)
	}
	for _, msg := range rep.Warnings {
		fmt.Fprintf(out, "warning: %s\n", msg)
	}
	for _, m := range rep.MalformedExamples {
		fmt.Fprintf(out, "malformed: %s:%d: %s: %s\n", m.File, m.Line, m.Reason, m.Error)
	}
	if rest := rep.Malformed - uint64(len(rep.MalformedExamples)); rest > 0 {
		fmt.Fprintf(out, "malformed: %d more lines\n", rest)
	}
	return nil
}

func estimate(v, maxErr uint64) string {
	if maxErr == 0 {
		return strconv.FormatUint(v, 10)
	}
	return fmt.Sprintf("%d (±%d)", v, maxErr)
}

func ports(r RejectedRow) string {
	if r.PortsSaturated {
		return fmt.Sprintf(">%d", r.DistinctPorts)
	}
	return strconv.Itoa(r.DistinctPorts)
}

func protocolName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmpv6"
	}
	return strconv.Itoa(int(p))
}

// formatName shortens the default format's long spelling.
func formatName(spec string) string {
	if spec == defaultSpec {
		return "default"
	}
	return spec
}
