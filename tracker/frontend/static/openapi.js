// What the API documents about itself, read at run time from its OpenAPI document: e.g. which
// export formats a report offers (DOCX appears here as soon as the API documents it).

import * as api from "./api.js";

let documentPromise = null;

function openapi() {
  if (!documentPromise) documentPromise = api.request("/openapi.json").then((answer) => answer.data);
  return documentPromise;
}

export async function exportFormats(path) {
  const doc = await openapi();
  const operation = doc.paths[`/api/v1${path}`]?.get;
  const format = (operation?.parameters || []).find((parameter) => parameter.name === "format" && parameter.in === "query");
  return (format?.schema?.enum || []).filter((value) => value !== "json");
}
