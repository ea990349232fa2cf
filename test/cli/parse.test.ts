import { parseCommand } from '../../src/cli';

describe('parseCommand', () => {
  it.each([
    [[], { kind: 'serve', configPath: undefined }],
    [['--config', 'a.yaml'], { kind: 'serve', configPath: 'a.yaml' }],
    [['--config=a.yaml'], { kind: 'serve', configPath: 'a.yaml' }],
    [['-c', 'a.yaml'], { kind: 'serve', configPath: 'a.yaml' }],
    [['--check-config'], { kind: 'check-config', configPath: undefined }],
    [['--config', 'a.yaml', '--check-config'], { kind: 'check-config', configPath: 'a.yaml' }],
    [['--version'], { kind: 'version' }],
    [['-v'], { kind: 'version' }],
    [['--version', '--help'], { kind: 'help' }],
    [['--check-config', '-h'], { kind: 'help' }],
    [['verify-export', 'x.zip', '--public-key', 'k.pem'], { kind: 'verify-export', args: ['x.zip', '--public-key', 'k.pem'] }],
  ])('%j', (argv, expected) => {
    expect(parseCommand(argv)).toEqual(expected);
  });

  it.each([
    [['--verbose'], "unknown option '--verbose'"],
    [['-x'], "unknown option '-x'"],
    [['--config'], '--config needs a file path'],
    [['--config='], '--config needs a file path'],
    [['--config', '--check-config'], '--config needs a file path'],
    [['--help=yes'], "option '--help' takes no value"],
    [['start'], "unknown command 'start'"],
    [['--config', 'a.yaml', 'verify-export', 'x.zip'], 'verify-export must be the first argument'],
  ])('refuses %j', (argv, message) => {
    const command = parseCommand(argv);
    expect(command.kind).toBe('usage-error');
    expect(command.kind === 'usage-error' && command.message).toContain(message);
  });
});
