package event

import _ "embed"

// SchemaV1 is the JSON Schema (draft 2020-12) of the message event v1. JSON
// Schema counts string length in characters, the contract in bytes: the
// byte limits are stated in x-goshawk-max-bytes and enforced by Decode.
//
//go:embed message.v1.schema.json
var SchemaV1 string
