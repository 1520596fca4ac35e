package graph

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The token answer is read in every shape Microsoft's endpoints give:
// expires_in as a number or a string, absurd lifetimes capped, errors as
// RetrieveError with their code.
func TestParseTokenAnswer(t *testing.T) {
	ok := &http.Response{StatusCode: http.StatusOK}
	for _, tc := range []struct {
		body string
		life time.Duration
	}{
		{`{"access_token":"a","token_type":"Bearer","expires_in":3599,"refresh_token":"r","id_token":"x.y.z"}`, 3599 * time.Second},
		{`{"access_token":"a","expires_in":"3600"}`, time.Hour},
		{`{"access_token":"a","expires_in":1e300}`, 24 * time.Hour},
		{`{"access_token":"a","expires_in":"99999999999999999999"}`, 24 * time.Hour},
		{`{"access_token":"a","expires_in":"-5"}`, 0},
		{`{"access_token":"a"}`, 0},
	} {
		tok, err := parseTokenAnswer(ok, []byte(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.body, err)
		}
		if tok.AccessToken != "a" {
			t.Errorf("%s: access token %q", tc.body, tok.AccessToken)
		}
		if got := time.Duration(tok.ExpiresIn) * time.Second; got != tc.life {
			t.Errorf("%s: lifetime %v, want %v", tc.body, got, tc.life)
		}
		if tc.life > 0 && !tok.Expiry.After(time.Now()) {
			t.Errorf("%s: expiry %v is not ahead", tc.body, tok.Expiry)
		}
	}
	tok, _ := parseTokenAnswer(ok, []byte(`{"access_token":"a","refresh_token":"r","id_token":"x.y.z","scope":"Mail.Read"}`))
	if tok.RefreshToken != "r" || tok.Extra("id_token") != "x.y.z" || tok.Extra("scope") != "Mail.Read" {
		t.Errorf("fields lost: %+v", tok)
	}
	_, err := parseTokenAnswer(&http.Response{StatusCode: 400}, []byte(`{"error":"invalid_grant","error_description":"AADSTS70008: expired"}`))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.ErrorDescription != "AADSTS70008: expired" {
		t.Errorf("error answer: %v", err)
	}
	if _, err := parseTokenAnswer(&http.Response{StatusCode: 502}, []byte(`<html>bad gateway</html>`)); !errors.As(err, &re) || re.Response.StatusCode != 502 {
		t.Errorf("HTML error page: %v", err)
	}
	if _, err := parseTokenAnswer(ok, []byte(`{"token_type":"Bearer"}`)); err == nil {
		t.Error("an answer without an access token was taken")
	}
}
