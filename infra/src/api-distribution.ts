import { Duration, Validations } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

/** The header CloudFront adds to every request to the API's function URL; the handler refuses requests without it. */
export const originVerifyHeader = "x-ciab-origin-verify";

export interface ApiDistributionProps {
  environment: string;
  api: lambda.IFunction;
  originVerifySecret: secretsmanager.ISecret;
  /** The WAF web ACL (scope CLOUDFRONT, us-east-1). */
  webACLArn: string;
  /** The API's own name and its certificate; without them, the distribution's *.cloudfront.net name. */
  domainName?: string;
  certificateArn?: string;
}

/**
 * CloudFront in front of the API's function URL: HTTPS only, nothing cached, every method and viewer header
 * passed on, the WAF web ACL attached. The URL has no IAM auth (docs/decisions/0037): CloudFront's origin access
 * control signs with SigV4 in the Authorization header, which would replace the callers' bearer tokens, and
 * would make every POST carry a body hash that no SDK of ours or E2B's sends. CloudFront proves itself with
 * a secret header instead, and the viewer's Host travels in x-forwarded-host for the URLs the API signs.
 */
export class ApiDistribution extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly functionURL: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: ApiDistributionProps) {
    super(scope, id);
    this.functionURL = new lambda.FunctionUrl(this, "Url", { function: props.api, authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.BUFFERED });

    const forwardHost = new cloudfront.Function(this, "ForwardHost", {
      functionName: `ciab-${props.environment}-forward-host`,
      comment: "passes the viewer's Host on as x-forwarded-host (the origin gets the function URL's own Host)",
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(
        "function handler(event) { var request = event.request; request.headers['x-forwarded-host'] = { value: request.headers.host.value }; return request; }",
      ),
    });

    this.distribution = new cloudfront.Distribution(this, "Distribution", {
      comment: `ciab ${props.environment} API`,
      defaultBehavior: {
        origin: new origins.FunctionUrlOrigin(this.functionURL, {
          customHeaders: { [originVerifyHeader]: props.originVerifySecret.secretValue.unsafeUnwrap() },
          readTimeout: Duration.seconds(30),
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        compress: false,
        functionAssociations: [{ function: forwardHost, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      webAclId: props.webACLArn,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      ...(props.domainName && props.certificateArn
        ? {
            domainNames: [props.domainName],
            certificate: acm.Certificate.fromCertificateArn(this, "Certificate", props.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
    });
    const acknowledge = (rule: string, reason: string) => Validations.of(this.distribution).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason });
    acknowledge("CFR1", "the API serves its users wherever they are; the WAF's IP reputation list and rate rule stand in for geography");
    acknowledge("CFR3", "the WAF web ACL logs every request the distribution receives (aws-waf-logs-ciab-<env>, two weeks), and the API logs each one it answers");
    if (!props.certificateArn) {
      acknowledge("CFR4", "without apiDomainName and apiCertificateArn the distribution has only CloudFront's default certificate, whose policy AWS fixes; give both to require TLS 1.2");
    }
  }
}
