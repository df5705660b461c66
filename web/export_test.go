package web

// Dist is the embedded build, for the tests of package web_test.
var Dist = dist
