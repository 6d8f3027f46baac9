/**
 * Starts Swagger UI on the document at ./openapi.json. "Try it" sends requests
 * to this same origin with the key given under Authorize, kept in memory only.
 */
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
});
