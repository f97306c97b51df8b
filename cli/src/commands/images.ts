/** images: the image catalog, what `ozekai connect --image` takes. */
import { table } from "../output.ts";
import { type Program, run } from "../run.ts";
import { openSession, unwrap } from "../session.ts";

export function registerImagesCommand(program: Program) {
  program
    .command("images")
    .description("The images a session can run, the plans that may run each, and each plan's default")
    .addHelpText("after", "\nExamples:\n  ozekai images\n  ozekai connect --image base")
    .action((_options, command) =>
      run(command, async ({ globals }) => {
        const { images } = unwrap(await openSession(globals).client.api.GET("/v1/images"));
        const rows = images.map((i): [string, string] => [
          i.name,
          `${i.description} · plans: ${i.plans.join(", ")}${i.defaultFor.length ? ` · default for ${i.defaultFor.join(", ")}` : ""}${i.jupyter ? " · jupyter" : ""}${i.ssh ? " · ssh" : ""}`,
        ]);
        return { data: { images }, lines: table(rows) };
      }),
    );
}
