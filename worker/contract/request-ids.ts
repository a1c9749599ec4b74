/**
 * The request ids' shapes. The Worker mints every request's id (a UUID): the key labels join on.
 * A client may send its own x-request-id; one of this shape is kept beside the minted id (stored
 * with sampled rows, logged, echoed as x-client-request-id), and anything else is dropped, so it
 * never reaches logs or headers. Minted ids match it too.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const REQUEST_ID_SHAPE = "1-128 of A-Z a-z 0-9 . _ : -";
