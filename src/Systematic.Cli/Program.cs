using Systematic.Cli;

return CommandLine.Run(args, Console.Out, Console.Error);
