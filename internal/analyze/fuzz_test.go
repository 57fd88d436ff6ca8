package analyze

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzAnalyzeInput runs analyze over arbitrary input in two formats (the default and a 10-field
// one), where any line may be an S3 header, with or without a byte-order mark. It must never
// fail or panic on content, and every line is accounted for: parsed, malformed, blank, or a
// header.
func FuzzAnalyzeInput(f *testing.F) {
	seeds := []string{
		"",
		"\ufeffversion interface-id srcaddr dstaddr protocol packets bytes action log-status flow-direction\n5 eni-1 10.0.0.1 10.0.0.2 1 1 60 ACCEPT OK ingress\n",
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 50000 6 2 100 1718000000 1718000060 ACCEPT OK\nversion srcaddr\n5 10.0.0.1\n",
		"version - x\n\ufeff\ufeff2 1 2\n\r\n\t\n",
		"5 eni-1 10.0.0.1 10.0.0.2 1 1 60 ACCEPT OK ingress\n7 fields only here a b c\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		opts := DefaultOptions()
		opts.Output = OutputJSON
		opts.Warnings = nil
		opts.LogFormats = []string{strings.Join(defaultNames, " "), strings.Join(v5Names, " ")}
		var out bytes.Buffer
		if err := Run(context.Background(), opts, strings.NewReader(input), &out); err != nil {
			if strings.HasPrefix(input, parquetMagic) {
				return
			}
			t.Fatalf("Run: %v", err)
		}
		rep := decodeReport(t, out.Bytes())
		fi := rep.Files[0]
		if fi.Records+fi.Malformed > fi.Lines || rep.Records != fi.Records || rep.Malformed != fi.Malformed {
			t.Fatalf("file %+v, report records %d malformed %d", fi, rep.Records, rep.Malformed)
		}
		if rep.Flows+rep.NoData+rep.SkipData+rep.TGW.Records > rep.Records {
			t.Fatalf("flows %d + nodata %d + skipdata %d + tgw %d exceed the %d records", rep.Flows, rep.NoData, rep.SkipData, rep.TGW.Records, rep.Records)
		}
	})
}
