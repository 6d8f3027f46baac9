/**
 * Starts Swagger UI on the document at ./openapi.json. "Try it" sends requests
 * to this same origin with the key given under Authorize, kept in memory only.
 */
/**
 * Names and focus stops Swagger UI leaves out: labels on the server picker and the request body
 * editor, keyboard scrolling of code blocks.
 */
function completeAccessibility(): void {
  document.getElementById('servers')?.setAttribute('aria-label', 'Server');
  for (const editor of document.querySelectorAll('.swagger-ui textarea.body-param__text:not([aria-label])')) {
    editor.setAttribute('aria-label', 'Request body');
  }
  for (const block of document.querySelectorAll('.swagger-ui .microlight:not([tabindex])')) {
    block.setAttribute('tabindex', '0');
  }
}

type SwaggerUiGlobal = (options: Record<string, unknown>) => unknown;

const SwaggerUIBundle = (window as unknown as { SwaggerUIBundle: SwaggerUiGlobal }).SwaggerUIBundle;
SwaggerUIBundle({
  url: new URL('openapi.json', window.location.href).href,
  dom_id: '#swagger-ui',
  deepLinking: false,
  // No badge fetched from another origin.
  validatorUrl: null,
  persistAuthorization: false,
  tryItOutEnabled: true,
  // Plain code blocks: the highlighter's colours fall short of WCAG AA contrast on its dark ground.
  syntaxHighlight: false,
});
// Swagger UI renders and re-renders on its own: complete each new piece as it appears.
new MutationObserver(completeAccessibility).observe(document.getElementById('swagger-ui') as HTMLElement, {
  childList: true,
  subtree: true,
});
