using Microsoft.Extensions.Options;

namespace LlmApp.Gateway.Backend;

[OptionsValidator]
internal sealed partial class BackendOptionsValidator : IValidateOptions<BackendOptions>;
