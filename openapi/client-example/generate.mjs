// Generates src/schema.d.ts from ../openapi.json with openapi-typescript (run: npm run generate).
// The one change to the defaults: `format: binary` becomes `Blob` (uploads and XLSX downloads), not `string`.
import { writeFile } from "node:fs/promises";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import ts from "typescript";

const source = new URL("../openapi.json", import.meta.url);
const target = new URL("./src/schema.d.ts", import.meta.url);
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));

const ast = await openapiTS(source, {
  transform(schemaObject) {
    if (schemaObject.format === "binary") {
      return BLOB;
    }
    return undefined;
  },
});
await writeFile(target, COMMENT_HEADER + astToString(ast));
console.log(`wrote ${target.pathname}`);
