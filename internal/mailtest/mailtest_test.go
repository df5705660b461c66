package mailtest_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/neosc/neosc/internal/mailtest"
)

// TestParse decodes what mail clients send: quoted-printable with soft line
// breaks, base64 with line breaks, a multipart body, RFC 2047 subjects.
func TestParse(t *testing.T) {
	link := "https://neosc.test/invite?token=" + strings.Repeat("0123456789", 9)
	for name, raw := range map[string]string{
		"quoted-printable": "Subject: =?UTF-8?q?Willkommen_bei_NeoSC_=E2=80=93_bitte_best=C3=A4tigen?=\r\n" +
			"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"Best=C3=A4tigen:\r\n" + qpSoftBreaks(link) + "\r\n",
		"base64": "Subject: =?UTF-8?b?V2lsbGtvbW1lbiBiZWkgTmVvU0Mg4oCTIGJpdHRlIGJlc3TDpHRpZ2Vu?=\r\n" +
			"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			wrap(b64("Bestätigen:\r\n"+link+"\r\n"), 76) + "\r\n",
		"multipart": "Subject: =?UTF-8?q?Willkommen_bei_NeoSC_=E2=80=93_bitte_best=C3=A4tigen?=\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b1\r\n\r\n" +
			"--b1\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n" +
			"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			"Best=C3=A4tigen:\r\n" + qpSoftBreaks(link) + "\r\n\r\n--b1--\r\n", // the last CRLF belongs to the boundary
	} {
		m, err := mailtest.Parse([]byte(raw))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m.Subject != "Willkommen bei NeoSC – bitte bestätigen" {
			t.Errorf("%s: subject %q", name, m.Subject)
		}
		if want := "Bestätigen:\n" + link + "\n"; m.Body != want {
			t.Errorf("%s: body %q, want %q", name, m.Body, want)
		}
		if got := mailtest.Link(m); got != link {
			t.Errorf("%s: link %q, want %q", name, got, link)
		}
	}
	if got := mailtest.Link(mailtest.Message{Body: "no link here"}); got != "" {
		t.Errorf("Link of a body without one: %q", got)
	}
}

// qpSoftBreaks encodes s as quoted-printable lines of at most 76 characters.
func qpSoftBreaks(s string) string {
	s = strings.ReplaceAll(s, "=", "=3D")
	var b strings.Builder
	for len(s) > 75 {
		cut := 75
		if i := strings.LastIndex(s[:cut], "="); i > cut-3 {
			cut = i
		}
		b.WriteString(s[:cut] + "=\r\n")
		s = s[cut:]
	}
	b.WriteString(s)
	return b.String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func wrap(s string, n int) string {
	var lines []string
	for len(s) > n {
		lines, s = append(lines, s[:n]), s[n:]
	}
	return strings.Join(append(lines, s), "\r\n")
}
