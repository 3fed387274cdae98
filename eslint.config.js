// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // charts/kaito-ts/crds is a symlink to crds/, linted there.
  { ignores: ["node_modules/", ".kaito/", "reports/", "coverage/", "charts/kaito-ts/crds/"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": [
        "error",
        {
          selector: "TSEnumDeclaration",
          message: "Use a string-literal union: enums are not erasable syntax.",
        },
      ],
    },
  },
);
