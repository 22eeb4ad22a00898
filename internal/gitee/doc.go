// Package gitee is the Gitee (gitee.com, or any Gitee-compatible host)
// implementation of forge.Forge over the OpenAPI v5, plus the verification and
// parsing of Gitee webhook deliveries.
//
// # Token placement
//
// Gitee documents its token as the access_token parameter. This client sends
// it in the query string of GET and DELETE requests (they have no body) and in
// the application/x-www-form-urlencoded body of POST, PATCH and PUT requests,
// so that a write never carries the token in its URL. The token never appears
// in an error message: errors name a request by method and API path only
// (e.g. "GET /repos/owner/name"), transport errors are stripped of the URL, and
// every text that came from the server is scrubbed of the token as well.
// Redirects are not followed: a redirected request would carry the token (in
// its query) to wherever the Location points.
//
// # Errors and retries
//
// Every error is a *failure.Error. Idempotent requests (GET, PATCH, PUT,
// DELETE, and the hook test delivery) are retried with capped exponential
// backoff on server errors, rate limiting and transport failures, honouring
// Retry-After and the context's deadline. Creating a repository is retried only
// after checking that the failed attempt did not create it after all; creating
// a webhook is never retried.
package gitee
