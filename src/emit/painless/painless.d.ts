/** `.painless` files are imported as text (`with { type: "text" }`); Bun embeds them in the compiled binary. */
declare module "*.painless" {
  const source: string;
  export default source;
}
