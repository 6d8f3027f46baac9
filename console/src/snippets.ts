/** "Copy as": the same request as curl, Python (requests) and JavaScript (fetch). */
export type Language = 'curl' | 'Python' | 'JavaScript';

/** Snippets carry a placeholder, never the signed-in key. */
const KEY = '$MODELGATE_API_KEY';

export function snippet(language: Language, url: string, body: unknown): string {
  const json = JSON.stringify(body);
  const pretty = JSON.stringify(body, null, 2);
  if (language === 'curl') {
    return `curl -s ${quote(url)} \\\n  -H "x-api-key: ${KEY}" \\\n  -H 'content-type: application/json' \\\n  -d ${quote(json)}`;
  }
  if (language === 'Python') {
    return `import os, requests\n\nanswer = requests.post(\n    ${JSON.stringify(url)},\n    headers={"x-api-key": os.environ["MODELGATE_API_KEY"]},\n    json=${pretty.replace(/\n/g, '\n    ')},\n)\nprint(answer.json())`;
  }
  return `const answer = await fetch(${JSON.stringify(url)}, {\n  method: 'POST',\n  headers: { 'x-api-key': process.env.MODELGATE_API_KEY, 'content-type': 'application/json' },\n  body: JSON.stringify(${pretty.replace(/\n/g, '\n  ')}),\n});\nconsole.log(await answer.json());`;
}

/** Single-quoted for a POSIX shell. */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
